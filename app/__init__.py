"""KAN Studio's Streamlit front end: thin pages over `app.state` (workspace) and `app.plots` (figures)."""
