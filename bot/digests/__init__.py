"""Weekly digests: what managers (and admins) read every Monday."""
