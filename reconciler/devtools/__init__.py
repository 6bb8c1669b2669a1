"""Tools for developers and plugin authors: the demo, the private keyring launcher, the conformance kit."""
