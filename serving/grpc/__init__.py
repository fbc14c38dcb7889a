"""The Open Inference Protocol V2 over gRPC (KServe's ``inference.GRPCInferenceService``)."""
