// implemented by the storage work
