"""Placeholder until the library functions land."""

import streamlit as st

st.info("建设中")
