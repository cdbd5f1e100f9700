"""erlen's HTTP layer: data structures, header parsing, requests and responses.

Nothing is re-exported here so that importing one submodule stays cheap; import from
``erlen.http.datastructures``, ``erlen.http.parsing`` etc. directly.
"""
