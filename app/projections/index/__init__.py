"""The assertion index: a durable projection of every assertion's states across incidents.

`tables` holds its rows, `projector` keeps them following the log, `query` answers analysts from
them. What a row means, and why the answers equal the fold's, is in `projector`.
"""
