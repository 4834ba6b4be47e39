"""Turn configuration mistakes into short messages; placeholder."""
import sys
def report_error(error):
    print(f"pegboard: error: {error}", file=sys.stderr); return 2
def run_reporting_errors(func, command, argv):
    func(); return 0
