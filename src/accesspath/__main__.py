from accesspath.cli import main

raise SystemExit(main())
