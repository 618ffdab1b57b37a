from movierec.cli import main

raise SystemExit(main())
