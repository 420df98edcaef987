"""Ferry: temporary, provider-fetchable media URLs and video tasks on AWS."""

__version__ = "0.1.0"
