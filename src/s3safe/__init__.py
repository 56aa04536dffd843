"""s3safe: a security-first command-line tool and library for Amazon S3 and S3-compatible stores."""

__version__ = "0.1.0"
