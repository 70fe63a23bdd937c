"""What a message carries besides text: files and images from disk, the clipboard's image,
and spoken output written to a file. Every problem is a ``UsageError`` naming the source.
"""
