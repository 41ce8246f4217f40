// Placeholder: llama_model_quantize and the importance matrix (issue 11).
