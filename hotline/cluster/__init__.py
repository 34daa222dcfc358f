"""Several nodes behind one SIP proxy (Kamailio), on one PostgreSQL: `hotline sandbox cluster`."""
