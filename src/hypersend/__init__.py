"""HyperSend: self-hosted chat and very large file transfer."""

__version__ = "0.1.0"
