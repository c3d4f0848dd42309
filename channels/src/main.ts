/** `storm-channel`: publish appliance channels. The commands land with the channels issue. */
process.stderr.write('storm-channel: not yet (keygen, build and serve land with the channels work)\n');
process.exit(1);
