"""The validated config: the model, the file (atomic save, migrations), secrets and the keyring.

May import only the root modules (clock, masking, paths).
"""
