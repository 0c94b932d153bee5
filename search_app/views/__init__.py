"""One Streamlit page per module, run by `st.navigation` from `search_app/main.py`."""
