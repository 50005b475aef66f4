"""The client's side of a server: the gRPC channel, the session (tokens, retries), service
proxies, artifact transfers and the credentials this machine keeps."""
