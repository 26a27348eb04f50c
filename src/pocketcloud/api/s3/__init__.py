"""S3's wire handlers (rest-xml): one module per resource family, as in services/s3."""
