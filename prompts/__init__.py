"""The prompt and message templates, installed as the package `rag.templates`.

pyproject.toml maps `rag.templates` to this folder (`package-dir`), so the `.txt` files ship
inside the wheel and `rag.prompts` reads them with importlib.resources, installed or editable.
`llm/` holds what the model is sent; `messages/` holds what a person is shown.
"""
