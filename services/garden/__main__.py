from services.garden.app import main

main()
