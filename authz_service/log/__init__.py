"""The decision log (R7): chain, spool, the writer process, storable values, reading and verifying."""
