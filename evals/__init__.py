"""Evaluation suites: crisis detection on NAB realTweets, sentiment on TweetEval."""
