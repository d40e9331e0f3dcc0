"""Design <-> Keras."""
