"""Input and output: user tables (`data`: `read_table`, `prepare`), built-in examples (`examples`),
sessions (`session`)."""
