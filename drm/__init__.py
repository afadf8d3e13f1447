"""Content keys, the key store, PSSH, the ClearKey license server and key exchange. Serves no media."""
