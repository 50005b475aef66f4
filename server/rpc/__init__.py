"""The gRPC edge: thin servicers, the auth interceptor, request limits, the error map and
converters between protobuf and domain values."""
