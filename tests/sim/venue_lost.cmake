# test_venue_lost makes the engine's queue fail one growth: its realloc calls
# (those of the static libraries linked into it) go through the test's wrapper.
target_link_options(test_venue_lost PRIVATE -Wl,--wrap=realloc)
