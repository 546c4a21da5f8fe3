from mujun.cli import main

main()
