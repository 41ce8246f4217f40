// Placeholder: the HTML and Markdown report (issue 8).
