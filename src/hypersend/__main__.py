from hypersend.cli import main

raise SystemExit(main())
