SOURCE_DIGEST: str  # the SHA-256 of the screen.c it was built from

class Screen:
    _hot: bytearray
    _hot_mask: int
    _v4_blocks: bytearray
    _v6_blocks: bytearray
    _bins: bytearray
    def blocked(self, kind: str, value: str, now: float | None = None) -> bool: ...
    @staticmethod
    def configure(*, many: int, bin_bits_mask: int, opaque_max_length: int) -> None: ...
