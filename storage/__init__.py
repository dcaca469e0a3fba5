"""Durable state for Switchyard: models, migrations, org-scoped repositories, token encryption.

Nothing here imports the rest of Switchyard: URLs and keys come in as parameters, so the
composition root decides where data lives and which keys protect it.
"""
