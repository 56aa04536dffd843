"""The bandwidth limiter now lives in core/bandwidth.py (storage/ holds one per connection, and storage may
not import transfer/); this name stays for existing imports."""

from s3safe.core.bandwidth import BandwidthLimiter, ThrottledFile

__all__ = ["BandwidthLimiter", "ThrottledFile"]
