"""S3: buckets and objects (bodies are files, rows are the truth of what exists)."""
