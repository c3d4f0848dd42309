/** `storm`: the command-line client of the manager's API. The commands land with the hosts issue. */
process.stderr.write('storm: not yet (launch, ls, pull and friends land with the hosts and channels work)\n');
process.exit(1);
