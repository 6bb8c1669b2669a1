"""Hookrelay: an example provider plugin for webhook-reconciler (contract §8). The plugin object is in plugin.py,
the adapter in adapter.py, the emulator in emulator.py: this package file stays empty, so loading the emulator
imports nothing of the product but the sandbox."""
