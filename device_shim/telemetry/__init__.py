"""Device-side telemetry: the inference server, the sampler, the spool and the stream command."""
