"""The hotline's domain: plain data and rules. Imports no I/O library."""
