"""Provider events in: verified, kept once in the inbox, processed once by a job."""
