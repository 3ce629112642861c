"""Tests of the manifest core (a package so module names never clash with other test folders)."""
