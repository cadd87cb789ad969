"""The model's answer as it streams: sections gated and shown or held (model.py, stream.py), the open one previewed (preview.py)."""
