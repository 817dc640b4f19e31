"""ABC notation in and out: header fields, the tunebook reader, the writer."""
