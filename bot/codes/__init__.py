"""What we hand out and read back: signed check-in and card codes, QR images and posters, the
addresses of our own pages, and the checks on identifiers that come back in URLs."""
