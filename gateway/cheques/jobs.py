"""STUB: the cheque jobs (finish a recording or a bounce, the minute sweep)."""
