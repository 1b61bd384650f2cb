"""Knowledge sources: files (Markdown, text, PDF, HTML) taught to an agent as archival chunks
it can search and cite, each linked to its document so removing the document forgets them."""
