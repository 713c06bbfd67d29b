from services.rewards.app import main

main()
