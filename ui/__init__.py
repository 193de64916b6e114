"""The web chat: a thin Gradio layer over `Pipeline.ask_stream`."""
