"""The team's memory of past postmortems (issue 22), kept in the run store's database: remembering finished runs
and imported reviews, recall with live ticket states, history search and forgetting. The ranking and rendering
that need no database live in bot/core/memory."""
