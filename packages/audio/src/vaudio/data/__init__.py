"""Training corpora built offline: sung phrases from Festival (`songs`: melodies from music21's corpus,
`song_plan`, `festival`, `song_labels`, `words`) and espeak-ng speech (`speech`: `sentences`, `espeak`)."""
