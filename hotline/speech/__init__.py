"""Speech recognition: Vosk models (check, fetch), endpointing, and streaming from Asterisk
(a snoop of the caller, externalMedia RTP to loopback) into one recogniser per call."""
