"""Staffing maths (Erlang C and Erlang A) for the workforce marts."""
