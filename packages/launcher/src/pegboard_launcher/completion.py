def run(argv, commands): return 0
